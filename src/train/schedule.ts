/** Log-spaced recording: step 0, then ⌊10^(i/pointsPerDecade)⌋ for i = 0, 1, …, without repeats. */
export function logSpacedSteps(maxSteps: number, pointsPerDecade: number): number[] {
  const steps = new Set<number>([0]);
  for (let i = 0; ; i++) {
    const s = Math.floor(10 ** (i / pointsPerDecade) + 1e-9);
    if (s > maxSteps) break;
    steps.add(s);
  }
  return [...steps].sort((a, b) => a - b);
}
