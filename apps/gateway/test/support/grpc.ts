// A gRPC VmControl client for the gateway, with the bearer token in the call metadata.
import * as grpc from '@grpc/grpc-js';
import { loadVmProto, type VmControlClient } from '@quasivm/proto';

export function gatewayGrpcClient(address: string): VmControlClient {
  const VmControl = loadVmProto().quasivm.vm.v1.VmControl;
  return new VmControl(address, grpc.credentials.createInsecure());
}

export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** Promise form of a unary call: unary((cb) => client.GetVm({ id }, md, cb)). */
export function unary<R>(invoke: (cb: grpc.requestCallback<R>) => unknown): Promise<R> {
  return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res!))));
}

/** The error a call that must fail failed with (throws if it succeeded). */
export async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error('the call succeeded but should have failed');
}
