// Seeded draws for the simulations (bench/sim, bench/fleet): a standard normal and
// Binomial(n, p), both from a uniform source such as test/util/rng.ts mulberry32.

/** A standard normal draw (Box-Muller, one of the pair). */
export function gaussian(r: () => number): number {
  let u = r();
  while (u <= 0) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** Binomial(n, p): inversion when the smaller tail's mean < 20, else the normal approximation. */
export function binomial(r: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(r, n, 1 - p);
  const mean = n * p;
  if (mean < 20) {
    // Inversion: walk the pmf from 0 (a pmf gone below the floats past the mean ends the walk).
    const q = 1 - p;
    let pmf = Math.pow(q, n);
    let cdf = pmf;
    const u = r();
    let k = 0;
    while (u > cdf && k < n) {
      pmf *= ((n - k) / (k + 1)) * (p / q);
      k++;
      cdf += pmf;
      if (pmf < 1e-300 && k > mean) break;
    }
    return k;
  }
  const x = Math.round(mean + Math.sqrt(mean * (1 - p)) * gaussian(r));
  return Math.min(n, Math.max(0, x));
}
