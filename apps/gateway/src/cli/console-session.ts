// `quasivm console <id>`: the guest's serial output on stdout, stdin typed into the guest.
// In a terminal, stdin is raw and Ctrl-] leaves. --until ends the session once a text was seen.
import type { WebSocket } from 'ws';

export interface ConsoleOptions {
  until?: string;
  timeoutMs?: number;
  input: boolean;
}

const CTRL_RIGHT_BRACKET = 0x1d;

/** Resolves with the exit code: 0 when closed normally or `until` was seen, 1 otherwise. */
export function runConsole(ws: WebSocket, o: ConsoleOptions): Promise<number> {
  return new Promise((resolve) => {
    let seen = '';
    let finished = false;
    const stdin = process.stdin;
    const finish = (code: number, message?: string) => {
      if (finished) return;
      finished = true;
      if (message) process.stderr.write(`${message}\n`);
      clearTimeout(timer);
      if (o.input) {
        if (stdin.isTTY) stdin.setRawMode(false);
        stdin.pause();
      }
      ws.close();
      resolve(code);
    };
    const limit = o.timeoutMs;
    const timer = limit ? setTimeout(() => finish(1, `console: ${o.until === undefined ? 'time is up' : `${JSON.stringify(o.until)} not seen`} after ${limit / 1000} s`), limit) : undefined;
    ws.on('message', (data: Buffer) => {
      process.stdout.write(data);
      if (o.until === undefined) return;
      seen = (seen + data.toString('latin1')).slice(-(o.until.length + 4096));
      if (seen.includes(o.until)) finish(0);
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        let message = `${res.statusCode}`;
        try {
          message = JSON.parse(body).error.message;
        } catch {
          /* keep the status */
        }
        finish(1, `console: ${message}`);
      });
    });
    ws.on('error', (e) => finish(1, `console: ${e.message}`));
    ws.on('close', (code, reason) => finish(code === 1000 || code === 1005 ? 0 : 1, reason.length ? `console closed: ${reason}` : undefined));
    ws.on('open', () => {
      if (!o.input) return;
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        process.stderr.write('(console attached; Ctrl-] leaves)\r\n');
      }
      stdin.on('data', (chunk: Buffer) => {
        if (stdin.isTTY && chunk.includes(CTRL_RIGHT_BRACKET)) return finish(0);
        ws.send(chunk);
      });
      stdin.on('end', () => undefined);
      stdin.resume();
    });
  });
}
