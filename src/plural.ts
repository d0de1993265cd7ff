/** `1 restart`, `2 restarts`: English plurals of the words this tool counts (all regular). */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
