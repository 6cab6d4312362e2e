/**
 * Names people choose (users, roles, queues) are compared as people read them, not as code points: `alice`
 * with a no-break space, `аlice` with a Cyrillic а, or `root` with a zero-width space must not pass for new names.
 *
 * - `normalizeName`: NFKC, default-ignorable code points (zero-width spaces and joiners, soft hyphen, ...)
 *   removed, runs of white space collapsed to one space, trimmed. What is stored.
 * - `nameKeys`: the UTS #39 skeleton (NFD, confusables mapped to their prototype, NFD again) of the normalized
 *   name, case-insensitive. Two names clash when their keys meet. The confusables table is unhomoglyph's
 *   (Unicode's confusables.txt, the mapping matrix-js-sdk uses for display names); the case is folded both
 *   before and after the mapping, because the table maps some capitals to other letters (I -> l).
 */
import unhomoglyph from "unhomoglyph";

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const SPACES = /[\s\p{White_Space}]+/gu;

export function normalizeName(name: string): string {
  return name.normalize("NFKC").replace(IGNORABLE, "").replace(SPACES, " ").trim();
}

function skeleton(name: string): string {
  return unhomoglyph(name.normalize("NFD")).normalize("NFD");
}

/** The comparison keys of a name (see the module comment). */
export function nameKeys(name: string): string[] {
  const n = normalizeName(name);
  return [...new Set([skeleton(n).toLowerCase(), skeleton(n.toLowerCase()).toLowerCase()])];
}

/** Do two names read the same (confusable, case-insensitively, after normalization)? */
export function confusable(a: string, b: string): boolean {
  const keys = new Set(nameKeys(a));
  return nameKeys(b).some((k) => keys.has(k));
}
