// Hostile YAML texts for the tests that prove every YAML entry point refuses them as validation issues.

/** The classic "billion laughs": 9 levels of 9 aliases each, 9^9 strings once expanded (72 alias nodes). */
export function billionLaughs(): string {
  const names = 'abcdefghi';
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < names.length; i++) {
    lines.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(', ')}]`,
    );
  }
  return lines.join('\n') + '\n';
}
