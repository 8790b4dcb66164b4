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
// Resolve alone checks a path and a later open uses it: a process that swaps a directory for a
// symbolic link between the two could redirect the open. OpenBeneath closes that race: it opens
// relative to the root with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so the kernel
// refuses, at the moment of the open, any route that leaves the workspace. Error messages never
// say where an outside link leads.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/unique_fd.h"

namespace troupe {

// Where a file tool works on one file: its parent directory, open beneath the root, and the
// file's name in it (every later step is relative to `parent`), and its path as tools print it.
struct FileInDirectory {
  UniqueFd parent;
  std::string name;
  std::string shown;
};

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

  // Opens `path` (as Resolve takes it) with `flags` (O_CLOEXEC added) relative to the root
  // directory, through openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS. Resolve's errors;
  // InvalidArgument "… leads outside the workspace" when the kernel finds the path leaving it;
  // NotFound when it does not exist; IoError otherwise. Where openat2 is missing (Linux < 5.6, or
  // a seccomp filter that refuses it) the resolved path is opened as it is.
  Result<int> OpenBeneath(std::string_view path, int flags, mode_t mode = 0) const;

  // An O_PATH descriptor for the directory `path` (as Resolve takes it), reached from the root one
  // component at a time with openat(O_NOFOLLOW | O_DIRECTORY): no step can follow a link or
  // "..", so a directory swapped for a link during the walk is refused, never followed out. With
  // `create_missing`, missing components are made (mkdirat, 0777 minus the umask) on the way.
  // Files are then created, opened and renamed relative to the descriptor. Resolve's errors;
  // InvalidArgument when a component is (now) a link or not a directory; NotFound when one is
  // missing and not to be created; IoError otherwise. The caller closes the descriptor.
  Result<int> OpenDirectoryBeneath(std::string_view path, bool create_missing) const;

  // The file `path` names (as Resolve takes it) with its parent opened by OpenDirectoryBeneath,
  // for tools that create, read or replace a file relative to its directory. OpenDirectoryBeneath's
  // errors (NotFound "file <path> does not exist" when the parent is missing and not to be
  // created), and InvalidArgument
  // "<path> is a directory; give a file path" for the workspace root itself.
  Result<FileInDirectory> OpenFileParent(std::string_view path, bool create_missing) const;

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
