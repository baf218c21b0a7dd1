// The timer device service: an Intel 8254 PIT + port 0x61 per VM session, over gRPC.
import { runDeviceServiceCli } from '@quasivm/device-sdk';
import { timerDeviceFactory } from '@quasivm/timer-model';

await runDeviceServiceCli(timerDeviceFactory, 'timer', '127.0.0.1:50051');
