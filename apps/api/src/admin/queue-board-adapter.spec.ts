import { queueBoardErrorResponse } from './queue-board-adapter';

describe('queueBoardErrorResponse', () => {
  const withStatus = (message: string, statusCode?: number) =>
    Object.assign(new Error(message), { statusCode });

  it('answers a server error with a pointer to the log: no message, no stack', () => {
    const response = queueBoardErrorResponse(withStatus("EACCES: open '/srv/app/secret.json'"));
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.body)).not.toMatch(/srv|secret|EACCES|at /);
  });

  it('keeps a client error its status and one line of message, with paths taken out', () => {
    const response = queueBoardErrorResponse(
      withStatus('Queue not found in /usr/src/app/dist/main.js\n    at handler (x.js:1:2)', 404),
    );
    expect(response).toEqual({
      status: 404,
      body: {
        error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' },
        statusCode: 404,
        message: 'Queue not found in <path>',
      },
    });
  });

  it('treats an unknown status as a server error', () => {
    expect(queueBoardErrorResponse(withStatus('odd', 418)).status).toBe(500);
  });
});
