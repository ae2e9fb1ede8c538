import { describe, expect, it, vi } from 'vitest';
import { Emitter } from '../../src/observe/emitter.js';
import { recordingLogger } from '../helpers.js';

type Events = { ping: number };

describe('Emitter', () => {
  it('calls the listeners registered when the emit began: one added during it waits for the next emit', () => {
    const emitter = new Emitter<Events>(recordingLogger());
    const calls: string[] = [];
    const spawn = (n: number) => () => {
      calls.push(`l${n}`);
      emitter.on('ping', spawn(n + 1));
    };
    emitter.on('ping', spawn(0));
    emitter.emit('ping', 1);
    expect(calls).toEqual(['l0']);
    emitter.emit('ping', 2);
    expect(calls).toEqual(['l0', 'l0', 'l1']);
  });

  it('a listener removed during an emit still sees that emit, not the next; unsubscribing twice is harmless', () => {
    const emitter = new Emitter<Events>(recordingLogger());
    const second = vi.fn();
    let off2: () => void = () => {};
    emitter.on('ping', () => off2());
    off2 = emitter.on('ping', second);
    emitter.emit('ping', 1);
    emitter.emit('ping', 2);
    off2();
    expect(second).toHaveBeenCalledTimes(1);
    expect(emitter.has('ping')).toBe(true);
  });

  it('logs a listener that throws or returns a rejecting promise, and calls the others', async () => {
    const logger = recordingLogger();
    const emitter = new Emitter<Events>(logger);
    const last = vi.fn();
    emitter.on('ping', () => {
      throw new Error('sync');
    });
    emitter.on('ping', (async () => {
      throw new Error('async');
    }) as never);
    emitter.on('ping', (() => ({
      get then() {
        throw new Error('then getter');
      },
    })) as never);
    emitter.on('ping', last);
    emitter.emit('ping', 1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(last).toHaveBeenCalledWith(1);
    expect(logger.lines.filter((l) => l.message === 'event listener threw')).toHaveLength(3);
  });
});
