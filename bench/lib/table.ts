// bench/lib/table: a Markdown table with padded columns (readable raw and rendered). Not a bench.

/** `align`: "l" or "r" per column (default: first left, the rest right). */
export function mdTable(header: string[], rows: string[][], align?: Array<"l" | "r">): string {
  const al = align ?? header.map((_, i) => (i === 0 ? "l" : "r"));
  const w = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (s: string, i: number): string => (al[i] === "l" ? s.padEnd(w[i]) : s.padStart(w[i]));
  const line = (r: string[]): string => `| ${r.map((s, i) => cell(s ?? "", i)).join(" | ")} |`;
  const rule = `|${w.map((n, i) => (al[i] === "l" ? ` ${"-".repeat(n)} ` : ` ${"-".repeat(n - 1)}: `)).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
