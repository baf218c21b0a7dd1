// The VGA device service: a VGA adapter with Bochs VBE per VM session, plus the Display
// service (screenshot, screen text, frame stream) on the same gRPC server.
import { runDeviceServiceCli } from '@quasivm/device-sdk';
import { vgaDeviceFactory } from '@quasivm/vga-model';
import { addDisplayService } from './display-service.js';

await runDeviceServiceCli(vgaDeviceFactory, 'vga', '127.0.0.1:50053', undefined, addDisplayService);
