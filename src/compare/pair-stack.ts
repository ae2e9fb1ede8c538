// The pairs of objects under comparison: how the walk notices a cycle.

/** Pairs below this depth are found by scanning; deeper ones through an index, so a deep walk stays linear. */
const SCANNED = 64;

/**
 * The pairs of objects being compared right now, outermost first: meeting one
 * again means a cycle. A stack scanned from the top beats a map of sets for
 * the shallow values services return; pairs deeper than `SCANNED` are also
 * indexed by their old side.
 */
export class PairStack {
  readonly #olds: object[] = [];
  readonly #news: object[] = [];
  readonly #deep = new Map<object, object[]>();

  has(a: object, b: object): boolean {
    const scanned = Math.min(this.#olds.length, SCANNED);
    for (let at = scanned - 1; at >= 0; at--) {
      if (this.#olds[at] === a && this.#news[at] === b) return true;
    }
    return this.#olds.length > SCANNED && (this.#deep.get(a)?.includes(b) ?? false);
  }

  push(a: object, b: object): void {
    if (this.#olds.length >= SCANNED) {
      const news = this.#deep.get(a);
      if (news === undefined) this.#deep.set(a, [b]);
      else news.push(b);
    }
    this.#olds.push(a);
    this.#news.push(b);
  }

  pop(): void {
    const a = this.#olds.pop();
    this.#news.pop();
    if (a === undefined || this.#olds.length < SCANNED) return;
    const news = this.#deep.get(a);
    news?.pop();
    if (news?.length === 0) this.#deep.delete(a);
  }
}

