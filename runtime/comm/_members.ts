/**
 * The check of a communicator's membership (`Communicator.setMembers`), shared by the
 * communicator and the threaded communicator so a bad list fails where it is set.
 *
 * @module
 */

/**
 * Checks a membership: distinct ranks of the run, ascending, this rank among them.
 *
 * @param members The proposed members.
 * @param rank This rank.
 * @param size The run's ranks.
 * @returns A frozen copy.
 * @throws {RangeError} Naming what is wrong.
 */
export function checkMembers(
  members: readonly number[],
  rank: number,
  size: number,
): readonly number[] {
  const listed = `members [${members.join(", ")}]`;
  members.forEach((member, index) => {
    if (!Number.isInteger(member) || member < 0 || member >= size) {
      throw new RangeError(`Invalid ${listed}: ${member} is not a rank 0..${size - 1}`);
    }
    if (index > 0 && member <= members[index - 1]!) {
      throw new RangeError(`Invalid ${listed}: ranks must be distinct and ascending`);
    }
  });
  if (!members.includes(rank)) {
    throw new RangeError(`Invalid ${listed}: they must include this worker's rank ${rank}`);
  }
  return Object.freeze([...members]);
}
