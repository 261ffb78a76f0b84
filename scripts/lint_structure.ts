/**
 * Lint rules for the shape of the source (a `deno lint` plugin, enabled in deno.json): in `src/`,
 * no file is over 500 lines and no function over 80, so that every file is one readable subject
 * and every function one step. Tests and scripts are not held to it.
 *
 * @module
 */

/** The longest source file, in lines. */
const MAX_FILE_LINES = 500;
/** The longest function or method, in lines, from its signature to its closing brace. */
const MAX_FUNCTION_LINES = 80;

const inSource = (filename: string) => /\/src\//.test(filename.replaceAll("\\", "/"));
const lineCount = (text: string) => text.split("\n").length;

/** The rules: `structure/max-file-lines` and `structure/max-function-lines`. */
const plugin: Deno.lint.Plugin = {
  name: "structure",
  rules: {
    "max-file-lines": {
      create(context) {
        return {
          Program(node) {
            if (!inSource(context.filename)) return;
            const lines = lineCount(context.sourceCode.text.replace(/\n$/, ""));
            if (lines > MAX_FILE_LINES) {
              context.report({
                node,
                message: `${lines} lines: a file in src/ has at most ${MAX_FILE_LINES}`,
              });
            }
          },
        };
      },
    },
    "max-function-lines": {
      create(context) {
        const check = (node: Deno.lint.Node): void => {
          if (!inSource(context.filename)) return;
          const lines = lineCount(context.sourceCode.getText(node));
          if (lines > MAX_FUNCTION_LINES) {
            context.report({
              node,
              message: `a function of ${lines} lines: a function in src/ has at most ${MAX_FUNCTION_LINES}`,
            });
          }
        };
        return { FunctionDeclaration: check, FunctionExpression: check, ArrowFunctionExpression: check };
      },
    },
  },
};

export default plugin;
