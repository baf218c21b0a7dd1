import { widenNumberFields } from '../wide-fields.js';

/** LDTR or TR: a selector with its cached descriptor (Intel SDM vol. 3, sections 2.4.3-2.4.4). */
export class SystemSegment {
  selector = 0;
  base = 0;
  limit = 0;
  /** Attribute word as in protected/descriptor.ts; 0 means not loaded (null). */
  attributes = 0;

  constructor() {
    // A kernel's GDT and TSS sit at 0xc0000000 and up (wide-fields.ts).
    widenNumberFields(this, ['base', 'limit']);
  }

  clear(): void {
    this.selector = this.base = this.limit = this.attributes = 0;
  }

  set(selector: number, base: number, limit: number, attributes: number): void {
    this.selector = selector;
    this.base = base >>> 0;
    this.limit = limit >>> 0;
    this.attributes = attributes;
  }
}
