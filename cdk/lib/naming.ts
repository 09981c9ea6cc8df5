/** CamelCase construct id for a function name (publish-note -> PublishNote). */
export function constructIdFor(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
