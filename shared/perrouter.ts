// Per-router settings: a default, overridden by a mapping of router name or pattern to a value,
// as `prober.encap-per-router` and `plugin.paths.target-per-router` give them. One matcher for
// every such key: exact names first, then the first rule with a `*` that matches, in file order,
// else the default. Pure; answers cached per name.

/** True when `pattern` (`*`: any run of characters, possibly empty; everything else literal) matches `name`. */
export function routerPatternMatches(pattern: string, name: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === name;
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const j = name.indexOf(parts[i], at);
    if (j < 0 || j + parts[i].length > end) return false;
    at = j + parts[i].length;
  }
  return true;
}

/** The value of each router: an exact name among the rules first, else the first `*` rule that matches, else the default. */
export class PerRouter<T, R extends { readonly router: string } = { readonly router: string }> {
  private readonly exact = new Map<string, T>();
  private readonly patterns: Array<{ router: string; value: T }> = [];
  private readonly cache = new Map<string, T>();

  constructor(
    readonly defaultValue: T,
    rules: readonly R[],
    valueOf: (rule: R) => T,
  ) {
    for (const r of rules) {
      if (!r.router.includes("*")) {
        if (!this.exact.has(r.router)) this.exact.set(r.router, valueOf(r));
      } else this.patterns.push({ router: r.router, value: valueOf(r) });
    }
  }

  /** The value for router `name`. */
  for(name: string): T {
    let v = this.cache.get(name);
    if (v === undefined) {
      v = this.exact.get(name) ?? this.patterns.find((p) => routerPatternMatches(p.router, name))?.value ?? this.defaultValue;
      if (this.cache.size < 65536) this.cache.set(name, v);
    }
    return v;
  }
}
