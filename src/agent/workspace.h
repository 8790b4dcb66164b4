// The workspace sandbox: every path a model names is resolved against the task's workspace root
// and refused when it leads outside. File tools only ever touch paths that came out of Resolve.
//
// Resolution follows the kernel's rules, component by component: "." is skipped, ".." goes to the
// physical parent of what has been resolved so far, and every symbolic link met on the way (an
// intermediate directory or the final component, dangling or not) is replaced by its target.
// Components that do not exist yet are appended as they are, so a path for a new file resolves
// through its nearest existing ancestor. The result is then checked for containment component
// by component (`/ws-evil` is not inside `/ws`).
//
// Limit: the check and the later open are separate system calls; a process that swaps a
// directory for a symbolic link between the two can still redirect one operation. The sandbox
// protects against models naming paths outside, not against hostile processes inside.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe {

class Workspace {
 public:
  // `root` must be an absolute path to an existing directory; it is canonicalised (symbolic
  // links resolved), so a root reached through a link still contains its own files.
  static Result<Workspace> Open(std::string_view root);

  const std::string& root() const { return root_; }

  // The absolute, canonical path `path` names: relative paths are taken from the root, absolute
  // ones must lie inside it. An InvalidArgument error (a sentence a model can act on) when the
  // path is empty, contains a NUL byte, leads outside the workspace by any route, goes through a
  // non-directory, or has too many symbolic links. The path need not exist.
  Result<std::string> Resolve(std::string_view path) const;

  // `absolute` (a path Resolve returned) relative to the root, "." for the root itself; for the
  // paths tools print.
  std::string Relative(std::string_view absolute) const;

 private:
  explicit Workspace(std::string root) : root_(std::move(root)) {}

  std::string root_;
};

// Whether canonical absolute path `path` is `root` or lies under it, compared component-wise.
bool PathIsInside(std::string_view path, std::string_view root);

}  // namespace troupe
