/** `--name value` / `--name=value` flags named in `known`, and the arguments left over. */
export function takeFlags(
  argv: readonly string[],
  known: readonly string[],
): { flags: Record<string, string>; rest: string[] } {
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const name = eq > 0 ? argv[i].slice(0, eq) : argv[i];
    if (!known.includes(name)) {
      rest.push(argv[i]);
      continue;
    }
    const value = eq > 0 ? argv[i].slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    flags[name.slice(2)] = value;
  }
  return { flags, rest };
}

export function portFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65_535) {
    throw new Error(`--${name} must be a port number, got '${value}'`);
  }
  return port;
}

export function hostList(value: string | undefined, fallback: string[]): string[] {
  return value === undefined
    ? fallback
    : value
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean);
}
