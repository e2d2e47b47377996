/**
 * Raised for invalid arguments before any work is done. The message always names the
 * argument and what was expected, e.g.
 * `q: expected shape (B, NH, S, DHQK) = (2, 4, 64, 16), got (2, 4, 63, 16)`.
 */
export class MlstmArgumentError extends Error {
  /** The offending argument, e.g. `"k"` or `"chunkSize"`. */
  readonly argument: string;
  /** Human-readable expectation, e.g. `"a positive integer dividing S = 100"`. */
  readonly expected: string;
  /** What was received, formatted. */
  readonly received: string;

  constructor(argument: string, expected: string, received: string, context?: string) {
    super(`${context ? `${context}: ` : ''}${argument}: expected ${expected}, got ${received}`);
    this.name = 'MlstmArgumentError';
    this.argument = argument;
    this.expected = expected;
    this.received = received;
  }
}
