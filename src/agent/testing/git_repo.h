// For tests: a git repository with one commit of the given files, made with the real git.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "agent/git_command.h"
#include "core/testing/test_dir.h"

namespace troupe::testing {

// Initialises `dir` (a TestDir's path or below) as a repository on branch main and commits
// `files` (relative path → content) as "initial".
inline void MakeGitRepo(const std::string& dir, const std::map<std::string, std::string>& files) {
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(RunGitOk(dir, {"init", "--quiet", "--initial-branch=main"}).ok());
  for (const auto& [path, text] : files) {
    std::filesystem::create_directories(std::filesystem::path(dir + "/" + path).parent_path());
    WriteFileBytes(dir + "/" + path, text);
  }
  ASSERT_TRUE(RunGitOk(dir, {"add", "--all"}).ok());
  Result<std::string> committed = RunGitOk(dir, {"commit", "--quiet", "-m", "initial"});
  ASSERT_TRUE(committed.ok()) << committed.status().message();
}

}  // namespace troupe::testing
