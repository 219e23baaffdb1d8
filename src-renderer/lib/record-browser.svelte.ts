/**
 * A master-detail view's state: the list of records, the one open, and the error to show. `refresh`
 * reloads the list and reopens the record that was open (or the one asked for, or the newest).
 * The Sweeps and Studies views both browse this way.
 */
export class RecordBrowser<Item extends { id: string }, Detail> {
  items = $state<Item[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  selected = $state<Detail | null>(null);

  constructor(
    private readonly list: () => Promise<Item[]>,
    private readonly get: (id: string) => Promise<Detail>,
    private readonly idOf: (detail: Detail) => string,
  ) {}

  async open(id: string): Promise<void> {
    try {
      this.selected = await this.get(id);
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  refresh(selectId?: string): void {
    this.list().then(
      (items) => {
        this.items = items;
        this.loaded = true;
        const id = selectId ?? (this.selected ? this.idOf(this.selected) : undefined) ?? items[0]?.id;
        if (id) void this.open(id);
      },
      (e: unknown) => {
        this.error = e instanceof Error ? e.message : String(e);
        this.loaded = true;
      },
    );
  }
}
