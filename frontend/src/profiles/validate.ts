/**
 * The one rule for values typed into an option's unlisted choice, the same as the
 * server's: the value must match the WHOLE pattern, `^(?:pattern)$`, no flags.
 */

/** The full-match RegExp for `pattern`, or null when there is no usable pattern. */
export function fullMatch(pattern: string | null | undefined): RegExp | null {
  if (!pattern) return null;
  try {
    return new RegExp("^(?:" + pattern + ")$");
  } catch {
    // The server pre-checks patterns; if this browser still can't compile one, the server decides.
    console.warn(`hub-extensions: cannot check values against /${pattern}/ in this browser`);
    return null;
  }
}

export interface Rule {
  /** The option's display name, e.g. "Image". */
  name: string;
  pattern: string | null;
  re: RegExp | null;
  /** The admin's help text, or null. */
  message: string | null;
}

const shown = (value: string): string => (value.length > 60 ? value.slice(0, 57) + "..." : value);

/**
 * What is wrong with `value` under `rule`, as a sentence that names the field and the fix,
 * or "" when it is fine. An empty value is wrong: the field is only checked while it is used.
 */
export function problem(rule: Rule, value: string): string {
  const fix = rule.message || (rule.pattern ? `Enter a value matching ${rule.pattern}` : "Enter a value");
  if (value === "") return `${rule.name}: a value is required. ${fix}`;
  if (rule.re && !rule.re.test(value)) return `${rule.name}: "${shown(value)}" is not allowed. ${fix}`;
  return "";
}
