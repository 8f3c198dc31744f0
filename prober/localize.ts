// Localization, first version: which links are to blame for the failing paths of a window?
//
// A link that carries a healthy path forwards (at least in that direction), so it is cleared;
// every other link of a failing path is a suspect, ranked by how many failing paths cross it
// (a link on all of them explains all of them). Pure and table-tested; the link-level
// inference of the localization issue replaces it.

export interface PathHealth {
  links: readonly string[];
  failing: boolean;
}

export interface Suspect {
  link: string;
  /** Failing paths that cross the link. */
  failing: number;
  /** Share of all failing paths that cross it. */
  share: number;
}

export function suspectLinks(paths: readonly PathHealth[]): Suspect[] {
  const cleared = new Set<string>();
  for (const p of paths) if (!p.failing) for (const l of p.links) cleared.add(l);
  const count = new Map<string, number>();
  let failing = 0;
  for (const p of paths) {
    if (!p.failing) continue;
    failing++;
    for (const l of new Set(p.links)) if (!cleared.has(l)) count.set(l, (count.get(l) ?? 0) + 1);
  }
  return [...count]
    .map(([link, n]) => ({ link, failing: n, share: n / failing }))
    .sort((a, b) => b.failing - a.failing || (a.link < b.link ? -1 : a.link > b.link ? 1 : 0));
}
