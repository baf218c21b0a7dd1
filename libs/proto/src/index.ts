/**
 * Loads the .proto files of proto/ at run time with @grpc/proto-loader and re-exports the
 * TypeScript types generated from the same files (`npm run generate`, part of the build).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { ProtoGrpcType as DeviceProto } from './generated/device.js';
import type { ProtoGrpcType as VmProto } from './generated/vm.js';
import type { ProtoGrpcType as DisplayProto } from './generated/display.js';

/** Directory holding the .proto sources (the repository's proto/). */
export const PROTO_DIR = process.env.QUASIVM_PROTO_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto');

/** The options the generated types were made with; keep the two in step. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

let deviceProto: DeviceProto | undefined;
let vmProto: VmProto | undefined;

export function loadDeviceProto(): DeviceProto {
  deviceProto ??= grpc.loadPackageDefinition(
    protoLoader.loadSync('quasivm/device/v1/device.proto', LOADER_OPTIONS),
  ) as unknown as DeviceProto;
  return deviceProto;
}

let displayProto: DisplayProto | undefined;

export function loadDisplayProto(): DisplayProto {
  displayProto ??= grpc.loadPackageDefinition(
    protoLoader.loadSync('quasivm/display/v1/display.proto', LOADER_OPTIONS),
  ) as unknown as DisplayProto;
  return displayProto;
}

export function loadVmProto(): VmProto {
  vmProto ??= grpc.loadPackageDefinition(
    protoLoader.loadSync('quasivm/vm/v1/vm.proto', LOADER_OPTIONS),
  ) as unknown as VmProto;
  return vmProto;
}

export type { DeviceHandlers } from './generated/quasivm/device/v1/Device.js';
export type { DeviceClient } from './generated/quasivm/device/v1/Device.js';
export type { IoRequest, IoRequest__Input } from './generated/quasivm/device/v1/IoRequest.js';
export type { IoEvent, IoEvent__Input } from './generated/quasivm/device/v1/IoEvent.js';
export type { IoOp, IoOp__Input } from './generated/quasivm/device/v1/IoOp.js';
export type { ReadAhead__Input } from './generated/quasivm/device/v1/ReadAhead.js';
export type { CommandAhead, CommandAhead__Input } from './generated/quasivm/device/v1/CommandAhead.js';
export type { DmaChannel } from './generated/quasivm/device/v1/DmaChannel.js';
export type { DmaAhead } from './generated/quasivm/device/v1/DmaAhead.js';
export type { WriteAhead__Input } from './generated/quasivm/device/v1/WriteAhead.js';
export type { DeviceDescription as DeviceDescriptionMsg, DeviceDescription__Input as DeviceDescriptionMsg__Input } from './generated/quasivm/device/v1/DeviceDescription.js';
export type { DeviceStateBlob, DeviceStateBlob__Input } from './generated/quasivm/device/v1/DeviceStateBlob.js';
export type { VmControlHandlers, VmControlClient } from './generated/quasivm/vm/v1/VmControl.js';
export type { Vm, Vm__Input } from './generated/quasivm/vm/v1/Vm.js';
export type { CreateVmRequest } from './generated/quasivm/vm/v1/CreateVmRequest.js';
export type { MoveDeviceRequest } from './generated/quasivm/vm/v1/MoveDeviceRequest.js';
export type { MoveDeviceResponse, MoveDeviceResponse__Input } from './generated/quasivm/vm/v1/MoveDeviceResponse.js';
export type { DisplayHandlers, DisplayClient } from './generated/quasivm/display/v1/Display.js';
export type { DisplayFrame, DisplayFrame__Input } from './generated/quasivm/display/v1/DisplayFrame.js';
export type { TrafficRecord, TrafficRecord__Input } from './generated/quasivm/vm/v1/TrafficRecord.js';
export type { WatchTrafficRequest } from './generated/quasivm/vm/v1/WatchTrafficRequest.js';
