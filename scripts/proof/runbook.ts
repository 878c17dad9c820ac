// Reading a generated runbook (runbooks/<Alert>.md) the way an on-call engineer does: its diagnosis commands (the
// `sh` blocks, the `promql` queries) and its mitigation commands, with the placeholders an engineer fills in
// (`<tenant>`, `<policy>`: the alert's labels; the `export` line: the instance and its secrets).
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The commands of one runbook, by section. */
export interface RunbookCommands {
  readonly alert: string;
  /** Shell commands of the diagnosis, one per line, without the `export` line. */
  readonly diagnosisShell: readonly string[];
  /** PromQL queries of the diagnosis, in the order the runbook lists them. */
  readonly diagnosisQueries: readonly string[];
  /** Shell commands of the mitigation, one per line, without the `export` line. */
  readonly mitigationShell: readonly string[];
  /** The variables the runbook's `export` lines set (`RETAILFLOW`, `OPS_TOKEN`, ...). */
  readonly variables: readonly string[];
}

const FENCE = /^\s*```(\w+)\s*\n([\s\S]*?)^\s*```\s*$/gm;

function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) return '';
  const rest = markdown.slice(start + title.length + 5);
  const end = rest.search(/\n## /);
  return end < 0 ? rest : rest.slice(0, end);
}

function blocks(text: string, language: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(FENCE)) if (m[1] === language) found.push(m[2]!);
  return found;
}

/** Splits `sh` blocks into commands; `export` lines are returned apart as the variable names they set. */
function shellLines(blocksText: readonly string[], variables: Set<string>): string[] {
  const commands: string[] = [];
  for (const block of blocksText) {
    for (const raw of block.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('export ')) {
        for (const m of line.replace(/#.*$/, '').matchAll(/([A-Z_][A-Z0-9_]*)=/g)) variables.add(m[1]!);
        continue;
      }
      commands.push(line);
    }
  }
  return commands;
}

/** Reads `runbooks/<alert>.md` under `root` and returns its commands. */
export async function readRunbook(root: string, alert: string): Promise<RunbookCommands> {
  const markdown = await readFile(path.join(root, 'runbooks', `${alert}.md`), 'utf8');
  const diagnosis = section(markdown, 'Diagnosis');
  const mitigation = section(markdown, 'Mitigation');
  if (diagnosis === '') throw new Error(`runbooks/${alert}.md has no "## Diagnosis" section`);
  const variables = new Set<string>();
  return {
    alert,
    diagnosisShell: shellLines(blocks(diagnosis, 'sh'), variables),
    diagnosisQueries: blocks(diagnosis, 'promql').map((q) => q.trim()),
    mitigationShell: shellLines(blocks(mitigation, 'sh'), variables),
    variables: [...variables],
  };
}

/**
 * Fills the `<name>` placeholders of a command or query from `values` (the alert's labels). Throws, naming the
 * placeholder, when one is left that nothing fills: the runbook asks for something the alert does not say.
 */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>, where: string): string {
  return text.replace(/<([a-z_]+)>/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${where}: placeholder ${whole} is not a label of the alert`);
    return value;
  });
}
