// Names for the VmControl messages, taken from the types generated from vm.proto
// (libs/proto exports only some of them by name).
import type * as grpc from '@grpc/grpc-js';
import type { VmControlClient } from '@quasivm/proto';

// The last overload of each client method is (argument, callback).
type UnaryRequest<K extends keyof VmControlClient> = VmControlClient[K] extends (...a: never[]) => unknown ? Parameters<VmControlClient[K]>[0] : never;
type UnaryReply<K extends keyof VmControlClient> = VmControlClient[K] extends (...a: never[]) => unknown
  ? Parameters<VmControlClient[K]>[1] extends grpc.requestCallback<infer R>
    ? R
    : never
  : never;

export type { Vm, CreateVmRequest } from '@quasivm/proto';
export type VmReply = UnaryReply<'GetVm'>;
export type SendKeysRequest = UnaryRequest<'SendKeys'>;
export type ListVmsReply = UnaryReply<'ListVms'>;
export type ScreenshotReply = UnaryReply<'Screenshot'>;
export type ScreenTextReply = UnaryReply<'ScreenText'>;
export type MoveDeviceRequest = UnaryRequest<'MoveDevice'>;
export type MoveDeviceReply = UnaryReply<'MoveDevice'>;
export type ConsoleStream = ReturnType<VmControlClient['Console']>;
export type EventStream = ReturnType<VmControlClient['WatchEvents']>;
export type DisplayStream = ReturnType<VmControlClient['WatchDisplay']>;
export type DisplayFrame = DisplayStream extends grpc.ClientReadableStream<infer T> ? T : never;
export type { TrafficRecord__Input as TrafficRecord, WatchTrafficRequest } from '@quasivm/proto';
export type VmEvent = EventStream extends grpc.ClientReadableStream<infer T> ? T : never;
export type ConsoleOutput = ConsoleStream extends grpc.ClientDuplexStream<infer _I, infer T> ? T : never;

/** The lifecycle calls that take a VmRef and answer with the VM. */
export const VM_ACTIONS = ['start', 'pause', 'resume', 'reset', 'stop'] as const;
export type VmAction = (typeof VM_ACTIONS)[number];
export const ACTION_METHOD = { start: 'StartVm', pause: 'PauseVm', resume: 'ResumeVm', reset: 'ResetVm', stop: 'StopVm' } as const;
