import { describe, expect, it } from 'vitest';
import { InMemoryPartitionLeases } from '../../src/data/partition-memory-leases.js';
import { ManualClock } from '../../src/testing/index.js';

// src/data/partition-memory-leases.ts: a lease per name, held by one owner
// until it expires or is released.

function leases(ttlMs?: number) {
  const clock = new ManualClock({ start: 0 });
  return { clock, leases: new InMemoryPartitionLeases({ clock, ...(ttlMs === undefined ? {} : { ttlMs }) }) };
}

describe('InMemoryPartitionLeases', () => {
  it('gives a free lease, refuses a held one to anyone, and keeps names apart', async () => {
    const { leases: l } = leases(100);
    expect(await l.acquire('range-0', 'a')).toBeDefined();
    expect(await l.acquire('range-0', 'b')).toBeUndefined();
    expect(await l.acquire('range-0', 'a')).toBeUndefined();
    expect(await l.acquire('range-1', 'b')).toBeDefined();
  });

  it('lets a lease be taken again once ttlMs has passed since it was taken, not a moment before', async () => {
    const { clock, leases: l } = leases(100);
    const first = await l.acquire('plan', 'a');
    clock.advance(99);
    expect(await l.acquire('plan', 'b')).toBeUndefined();
    clock.advance(1);
    expect(await l.acquire('plan', 'b')).toBeDefined();
    expect(await first?.renew()).toBe(false);
  });

  it('lasts 30 s by default', async () => {
    const { clock, leases: l } = leases();
    await l.acquire('plan', 'a');
    clock.advance(29_999);
    expect(await l.acquire('plan', 'b')).toBeUndefined();
    clock.advance(1);
    expect(await l.acquire('plan', 'b')).toBeDefined();
  });

  it('renews for ttlMs from the renewal while held', async () => {
    const { clock, leases: l } = leases(100);
    const lease = await l.acquire('range-0', 'a');
    clock.advance(60);
    expect(await lease?.renew()).toBe(true);
    clock.advance(99);
    expect(await l.acquire('range-0', 'b')).toBeUndefined();
    expect(await lease?.renew()).toBe(true);
    clock.advance(100);
    expect(await l.acquire('range-0', 'b')).toBeDefined();
  });

  it('no longer renews once expired, even when nobody took it, from the very moment it expires', async () => {
    const { clock, leases: l } = leases(100);
    const lease = await l.acquire('range-0', 'a');
    clock.advance(100);
    expect(await lease?.renew()).toBe(false);
    // A renewal that failed does not extend it either.
    expect(await l.acquire('range-0', 'b')).toBeDefined();
  });

  it('releases its own lease, so that another owner can take it at once', async () => {
    const { leases: l } = leases(100);
    const lease = await l.acquire('range-0', 'a');
    await lease?.release();
    expect(await l.acquire('range-0', 'b')).toBeDefined();
  });

  it('releases nothing once another owner took the lease over', async () => {
    const { clock, leases: l } = leases(100);
    const stale = await l.acquire('range-0', 'a');
    clock.advance(100);
    const current = await l.acquire('range-0', 'b');
    await stale?.release();
    expect(await l.acquire('range-0', 'c')).toBeUndefined();
    expect(await current?.renew()).toBe(true);
    expect(await stale?.renew()).toBe(false);
  });

  it('refuses a bad ttlMs, naming it, and an unknown option, naming the class', () => {
    expect(() => new InMemoryPartitionLeases({ ttlMs: 0 })).toThrow(/option `ttlMs`/);
    expect(() => new InMemoryPartitionLeases({ ttlMs: 'soon' as never })).toThrow(/option `ttlMs`/);
    expect(() => new InMemoryPartitionLeases({ ttl: 5 } as never)).toThrow(/`ttl` is not an option of InMemoryPartitionLeases/);
  });

  it('no longer renews a lease it released, even before ttlMs, whether or not another owner took it since', async () => {
    const { leases: l } = leases(100);
    const released = await l.acquire('range-0', 'a');
    await released?.release();
    expect(await released?.renew()).toBe(false);
    const again = await l.acquire('range-1', 'a');
    await again?.release();
    expect(await l.acquire('range-1', 'b')).toBeDefined();
    expect(await again?.renew()).toBe(false);
    // The renewal refused extends nothing: the new holder keeps it.
    expect(await l.acquire('range-1', 'c')).toBeUndefined();
  });

  it('releases twice without harm', async () => {
    const { leases: l } = leases(100);
    const lease = await l.acquire('range-0', 'a');
    await lease?.release();
    await expect(lease?.release()).resolves.toBeUndefined();
    expect(await l.acquire('range-0', 'b')).toBeDefined();
  });
});
