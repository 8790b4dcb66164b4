// The dashboard's front end (web/dashboard/ in the repository), embedded in the binary at build
// time by src/dashboard/embed_assets.cmake: works offline, nothing to install beside the binary.
#pragma once

#include <span>
#include <string_view>

namespace troupe {

struct DashboardAsset {
  std::string_view name;          // the file name: "index.html", "app.js"
  std::string_view content_type;  // by extension, with charset for text
  std::string_view etag;          // quoted: "\"<32 hex of the SHA-256>\""
  std::string_view bytes;
};

// Every embedded file, sorted by name.
std::span<const DashboardAsset> DashboardAssets();

// The asset named `name` exactly (no path: "a/b" and ".." name nothing), or null.
const DashboardAsset* FindDashboardAsset(std::string_view name);

}  // namespace troupe
