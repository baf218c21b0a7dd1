import { describe, expect, test } from 'vitest';
import type { LocalDma } from '@quasivm/device-sdk';
import { DMA_ASK_BYTES, DMA_WINDOW_BYTES, DmaAsks } from '../src/dma-asks.js';

/** A run of predictions as DmaAsks sees it: how many are held and not issued yet. */
const held = (queued: number) => ({ queued }) as unknown as LocalDma & { queued: number };

describe('DmaAsks: the DmaMore requests a vCPU keeps in flight for a run of predicted DMA commands', () => {
  test('reads: chunks of DMA_ASK_BYTES, each after the ones held and asked for, until DMA_WINDOW_BYTES are ahead', () => {
    const dma = held(16);
    const asks = DmaAsks.for(dma, true, 64 << 10);
    const per = DMA_ASK_BYTES / (64 << 10);
    const window = DMA_WINDOW_BYTES / (64 << 10);
    expect(asks.maxBytes).toBe(DMA_ASK_BYTES);
    const skips: number[] = [];
    let seq = 0;
    expect(asks.ask((skip) => (skips.push(skip), ++seq))).toBe((window - 16) / per);
    expect(skips).toEqual(Array.from({ length: (window - 16) / per }, (_, i) => 16 + i * per));
    expect(asks.ask(() => ++seq)).toBe(0); // the window is full
    expect(asks.due()).toBeNull(); // commands are still held
    dma.queued = 0;
    expect(asks.due()).toEqual({ seq: 1, count: per });
    // The reply's commands held now: one more request keeps the window full, after all the others.
    dma.queued = per;
    skips.length = 0;
    expect(asks.ask((skip) => (skips.push(skip), ++seq))).toBe(1);
    expect(skips).toEqual([window - per]);
  });

  test('writes carry no data: one request at a time, for as many as a reply predicts', () => {
    const dma = held(256);
    const asks = DmaAsks.for(dma, false, 64 << 10);
    expect(asks.ask(() => 1)).toBe(0);
    dma.queued = 255;
    const skips: number[] = [];
    expect(asks.ask((skip) => (skips.push(skip), 2))).toBe(1);
    expect(skips).toEqual([255]);
  });

  test('a command larger than a chunk: one per request', () => {
    const asks = DmaAsks.for(held(1), true, 2 << 20);
    expect(asks.maxBytes).toBe(2 << 20);
    expect(asks.ask(() => 1)).toBe(DMA_WINDOW_BYTES / (2 << 20) - 1);
  });

  test('stop (a reply shorter than asked, or predictions dropped): the requests in flight are handed back to forget, and none are asked after', () => {
    const dma = held(16);
    const asks = DmaAsks.for(dma, true, 64 << 10);
    let seq = 10;
    const n = asks.ask(() => ++seq);
    expect(asks.stop()).toEqual(Array.from({ length: n }, (_, i) => 11 + i));
    dma.queued = 0;
    expect(asks.due()).toBeNull();
    expect(asks.ask(() => ++seq)).toBe(0);
  });
});
