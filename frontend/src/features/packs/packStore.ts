// A small normalized store of pack snapshots keyed by pack id. Query results, mutation payloads and
// live events all merge into it; a snapshot only replaces an older one (pack.version), so an event
// that arrives before a slower query result is never overwritten by it. Cards read from the store, so
// a live event changes every card and detail showing that pack without a refetch.
import type { PackCardFieldsFragment } from "../../gql/graphql";

export type PackSnapshot = PackCardFieldsFragment;

type Listener = () => void;

export class PackStore {
  private packs = new Map<string, PackSnapshot>();
  private deleted = new Set<string>();
  private changedAt = new Map<string, number>();
  private listeners = new Map<string, Set<Listener>>();

  get(id: string): PackSnapshot | undefined {
    return this.packs.get(id);
  }

  isDeleted(id: string): boolean {
    return this.deleted.has(id);
  }

  /** When the pack last changed under the user's eyes (live event or own action), or 0. */
  changedAtOf(id: string): number {
    return this.changedAt.get(id) ?? 0;
  }

  /**
   * Merges a snapshot. Returns true when it replaced what the store had. `highlight` marks the change
   * as one the user should notice (a live event or a mutation result), not an initial load.
   */
  merge(snapshot: PackSnapshot, options: { highlight?: boolean } = {}): boolean {
    const existing = this.packs.get(snapshot.id);
    if (existing && existing.version > snapshot.version) return false;
    if (existing && existing.version === snapshot.version && sameSnapshot(existing, snapshot)) {
      return false;
    }
    this.packs.set(snapshot.id, snapshot);
    // A new pack (sold elsewhere) is highlighted too when it arrives live.
    if (options.highlight && (!existing || existing.version < snapshot.version)) {
      this.changedAt.set(snapshot.id, Date.now());
    }
    this.emit(snapshot.id);
    return true;
  }

  mergeAll(snapshots: readonly PackSnapshot[]): void {
    for (const snapshot of snapshots) this.merge(snapshot);
  }

  markDeleted(id: string): void {
    if (this.deleted.has(id)) return;
    this.deleted.add(id);
    this.emit(id);
  }

  subscribe(id: string, listener: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  private emit(id: string): void {
    for (const listener of this.listeners.get(id) ?? []) listener();
  }
}

function sameSnapshot(a: PackSnapshot, b: PackSnapshot): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
