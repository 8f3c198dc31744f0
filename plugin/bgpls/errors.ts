// A BGP-LS object that cannot be understood: carries the key path inside the ExaBGP message so
// the log line says exactly what was wrong where.
export class LsDecodeError extends Error {
  override name = "LsDecodeError";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}
