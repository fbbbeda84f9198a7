/**
 * Finding a Python that has PyTorch, for the side-by-side benchmarks and the cross-check test.
 *
 * @module
 */

/**
 * The first Python that imports torch: `$TORCH_PYTHON` alone when set, else `python3` on the
 * path, then the system's (a pyenv or virtual environment on the path often lacks Debian's
 * `python3-torch`).
 *
 * @returns Its command, or `null` when none has torch.
 */
export async function torchPython(): Promise<string | null> {
  const chosen = Deno.env.get("TORCH_PYTHON");
  for (const python of chosen === undefined ? ["python3", "/usr/bin/python3"] : [chosen]) {
    try {
      const probe = new Deno.Command(python, { args: ["-c", "import torch"], stderr: "null" });
      if ((await probe.output()).success) return python;
    } catch {
      // Not installed: try the next.
    }
  }
  return null;
}
