/** Shared ts-morph setup: an in-memory project that only prints structures (no type checking, no disk). */
import { IndentationText, NewLineKind, Project, QuoteKind, type StatementStructures } from "ts-morph";

export function printStatements(fileName: string, header: string, statements: (string | StatementStructures)[]): string {
  const project = new Project({
    useInMemoryFileSystem: true,
    skipFileDependencyResolution: true,
    manipulationSettings: {
      indentationText: IndentationText.TwoSpaces,
      newLineKind: NewLineKind.LineFeed,
      quoteKind: QuoteKind.Double,
      useTrailingCommas: true,
    },
  });
  const file = project.createSourceFile(fileName, { statements }, { overwrite: true });
  return header + file.getFullText();
}

/** Doc comment text may not close the comment early. */
export function docText(text: string): string {
  return text.replace(/\*\//g, "*\\/");
}
