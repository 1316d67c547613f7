import { createServer, Socket } from 'node:net';
import { tcpPortsOf } from './process-sockets';

describe('tcpPortsOf', () => {
  it("lists the local port of this process's own TCP connection", async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const client = new Socket();
    await new Promise<void>((resolve) => client.connect(port, '127.0.0.1', resolve));
    try {
      expect(tcpPortsOf(process.pid)).toEqual(expect.arrayContaining([client.localPort, port]));
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is empty for a process that does not exist', () => {
    expect(tcpPortsOf(2 ** 22 + 1)).toEqual([]);
  });
});
