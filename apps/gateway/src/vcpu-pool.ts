// The vcpu service instances behind the gateway: where each VM lives, and where a new one goes.
// Locations are learnt from ListVms on every instance, so a restarted gateway finds its VMs again.
import * as grpc from '@grpc/grpc-js';
import { ApiError, notFound } from './errors.js';
import type { Logger } from './logger.js';
import type { Vm } from './proto-types.js';
import { VcpuClient } from './vcpu-client.js';

const LIST_DEADLINE_MS = 3_000;

export interface InstanceListing {
  client: VcpuClient;
  vms: Vm[] | null;
  error?: string;
}

export class VcpuPool {
  readonly clients: VcpuClient[];
  private readonly where = new Map<string, VcpuClient>();

  constructor(
    addresses: string[],
    private readonly log: Logger,
  ) {
    if (addresses.length === 0) throw new Error('at least one vcpu service address is needed (--vcpu or QUASIVM_VCPU)');
    this.clients = [...new Set(addresses)].map((a) => new VcpuClient(a));
  }

  /** ListVms on every instance at once; an unreachable instance yields vms = null. Refreshes the locations. */
  async survey(): Promise<InstanceListing[]> {
    const listings = await Promise.all(
      this.clients.map(async (client): Promise<InstanceListing> => {
        try {
          return { client, vms: (await client.list(LIST_DEADLINE_MS)).vms };
        } catch (e) {
          this.log.warn({ vcpu: client.address, err: (e as Error).message }, 'vcpu instance did not answer ListVms');
          return { client, vms: null, error: (e as Error).message };
        }
      }),
    );
    for (const { client, vms } of listings) {
      if (!vms) continue; // keep what we knew: the instance may be back soon
      for (const [id, c] of this.where) if (c === client && !vms.some((vm) => vm.id === id)) this.where.delete(id);
      for (const vm of vms) this.where.set(vm.id, client);
    }
    return listings;
  }

  /** The instance hosting VM `id`; asks every instance when the id is not known yet. */
  async locate(id: string): Promise<VcpuClient> {
    const known = this.where.get(id);
    if (known) return known;
    const listings = await this.survey();
    const found = this.where.get(id);
    if (found) return found;
    const down = listings.filter((l) => !l.vms);
    if (down.length > 0) throw new ApiError(grpc.status.UNAVAILABLE, `VM ${JSON.stringify(id)} not found on the reachable vcpu instances; unreachable: ${down.map((l) => l.client.address).join(', ')}`);
    throw notFound(id);
  }

  /** The reachable instance with the fewest VMs (first listed wins a tie). */
  async leastLoaded(): Promise<VcpuClient> {
    const up = (await this.survey()).filter((l): l is InstanceListing & { vms: Vm[] } => l.vms !== null);
    if (up.length === 0) throw new ApiError(grpc.status.UNAVAILABLE, `no vcpu instance is reachable (${this.clients.map((c) => c.address).join(', ')})`);
    return up.reduce((best, l) => (l.vms.length < best.vms.length ? l : best)).client;
  }

  remember(id: string, client: VcpuClient): void {
    this.where.set(id, client);
  }

  forget(id: string): void {
    this.where.delete(id);
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
