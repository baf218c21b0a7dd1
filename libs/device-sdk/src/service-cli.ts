import { Command } from 'commander';
import type { DeviceFactory } from './model.js';
import { serveDevice, type DeviceService } from './device-service.js';

/**
 * The whole `main` of a device service: parses --listen (or QUASIVM_LISTEN), serves the
 * factory, logs in JSON and stops cleanly on SIGTERM. Prints the bound address on stdout.
 */
export async function runDeviceServiceCli(
  factory: DeviceFactory | ((options: Record<string, unknown>) => DeviceFactory),
  name: string,
  defaultListen: string,
  extraOptions: (program: Command) => void = () => undefined,
  setup?: (service: DeviceService) => void,
  argv = process.argv,
): Promise<DeviceService> {
  const program = new Command(name)
    .description(`quasivm ${name} device service (gRPC, quasivm.device.v1.Device)`)
    .option('--listen <address>', 'host:port or unix:/path to serve on', process.env.QUASIVM_LISTEN ?? defaultListen)
    .option('--max-sessions <n>', 'largest number of VM sessions held at once', (v) => Number.parseInt(v, 10), 1024);
  extraOptions(program);
  program.parse(argv);
  const opts = program.opts<{ listen: string; maxSessions: number }>();
  const made = typeof factory === 'function' ? factory(opts) : factory;
  const service = await serveDevice(made, name, opts.listen, { maxSessions: opts.maxSessions, setup });
  process.stdout.write(`${name} service listening on ${opts.listen}\n`);
  return service;
}
