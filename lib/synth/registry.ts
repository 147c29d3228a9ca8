/** A name -> part map for the generator's interchangeable parts (templates, distractor kinds). */
export class Registry<T extends { readonly name: string }> {
  private readonly parts = new Map<string, T>();

  constructor(private readonly what: string) {}

  register(part: T): void {
    if (this.parts.has(part.name)) throw new Error(`${this.what} "${part.name}" is registered twice`);
    this.parts.set(part.name, part);
  }

  get(name: string): T {
    const part = this.parts.get(name);
    if (!part) throw new Error(`unknown ${this.what} "${name}"; available: ${[...this.parts.keys()].join(', ')}`);
    return part;
  }

  list(): T[] {
    return [...this.parts.values()];
  }
}
