/**
 * How the stores drive a rule written once (the release of children, unique jobs, dependency links, limits): the
 * rule is a generator that yields the SQL operations it needs and receives their answers; a synchronous store
 * (SQLite, inside one transaction function) drives it with `drive`, an asynchronous one (PostgreSQL) with
 * `driveAsync`. The rule never sees SQL; the store never decides.
 */
export function drive<Step, Result>(
  rule: Generator<Step, Result, unknown>,
  perform: (step: Step) => unknown,
): Result {
  let next = rule.next();
  while (!next.done) next = rule.next(perform(next.value));
  return next.value;
}

export async function driveAsync<Step, Result>(
  rule: Generator<Step, Result, unknown>,
  perform: (step: Step) => unknown,
): Promise<Result> {
  let next = rule.next();
  while (!next.done) next = rule.next(await perform(next.value));
  return next.value;
}
