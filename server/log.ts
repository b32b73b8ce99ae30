// A minimal structured logger, injected. It never receives bodies, headers or secrets.
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function consoleLogger(): Logger {
  const line = (level: string, msg: string, fields?: Record<string, unknown>) => {
    const extra = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
    const out = `${new Date().toISOString()} ${level} ${msg}${extra}`;
    if (level === 'ERROR' || level === 'WARN') console.error(out);
    else console.log(out);
  };
  return {
    info: (m, f) => line('INFO', m, f),
    warn: (m, f) => line('WARN', m, f),
    error: (m, f) => line('ERROR', m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
