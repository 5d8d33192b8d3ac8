// POSIX shell quoting for the exported scripts: every value a user can type goes through quote(). Layer: core.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for sh/bash: safe words stay bare, everything else is single-quoted. */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
