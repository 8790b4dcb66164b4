#include "config/mcp_servers_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;

Result<LoadedConfig> Load(std::vector<ConfigSource> sources) {
  return LoadConfigFromSources(sources);
}

TEST(McpServersConfigTest, ReadsStdioAndHttpServersInBothShapes) {
  Result<LoadedConfig> r = Load({{"user.jsonc", R"({
    "mcp_servers": {
      "docs": {"command": "npx", "args": ["-y", "server"], "env": {"TOKEN": "${T}"},
               "timeout_ms": 5000, "research": true}
    },
    "mcpServers": {
      "remote": {"type": "http", "url": "http://127.0.0.1:9/mcp",
                 "headers": {"Authorization": "Bearer ${GH}"}}
    },
    "agents": {"explore": {"tools": ["read", "mcp:docs/search*", "mcp:remote"]}}
  })"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const McpServerConfig& docs = r->config.mcp_servers.at("docs");
  EXPECT_EQ(docs.command, "npx");
  EXPECT_EQ(docs.args, (std::vector<std::string>{"-y", "server"}));
  EXPECT_EQ(docs.env.at("TOKEN"), "${T}");
  EXPECT_EQ(docs.timeout_ms, 5000);
  EXPECT_TRUE(docs.research);
  EXPECT_EQ(docs.blocked, "");
  const McpServerConfig& remote = r->config.mcp_servers.at("remote");
  EXPECT_EQ(remote.url, "http://127.0.0.1:9/mcp");
  EXPECT_EQ(remote.headers.at("Authorization"), "Bearer ${GH}");
}

TEST(McpServersConfigTest, ReadsOpenCodesShape) {
  Result<LoadedConfig> r = Load({{"user.jsonc", R"({
    "mcp": {
      "fs": {"type": "local", "command": ["npx", "-y", "server-fs", "/tmp"],
             "environment": {"NODE_ENV": "production"}, "enabled": true, "timeout": 10000},
      "api": {"type": "remote", "url": "https://example.com/mcp",
              "headers": {"Authorization": "Bearer ${TOKEN}"}},
      "off": {"type": "local", "command": ["x"], "enabled": false}
    },
    "agents": {"explore": {"tools": ["mcp:fs", "mcp:api"]}}
  })"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const McpServerConfig& fs = r->config.mcp_servers.at("fs");
  EXPECT_EQ(fs.command, "npx");
  EXPECT_EQ(fs.args, (std::vector<std::string>{"-y", "server-fs", "/tmp"}));
  EXPECT_EQ(fs.env.at("NODE_ENV"), "production");
  EXPECT_EQ(fs.startup_timeout_ms, 10000);
  const McpServerConfig& api = r->config.mcp_servers.at("api");
  EXPECT_EQ(api.url, "https://example.com/mcp");
  EXPECT_EQ(api.headers.at("Authorization"), "Bearer ${TOKEN}");
  EXPECT_EQ(r->config.mcp_servers.count("off"), 0u) << "enabled: false defines nothing";
}

// OpenCode's newer form: the servers under mcp.servers, `disabled: true` to keep one off.
TEST(McpServersConfigTest, ReadsOpenCodesServersForm) {
  Result<LoadedConfig> r = Load({{"opencode.jsonc", R"({
    "mcp": {
      "servers": {
        "fs": {"type": "local", "command": ["npx", "-y", "server-fs"]},
        "api": {"type": "remote", "url": "https://example.com/mcp"},
        "off": {"type": "local", "command": ["x"], "disabled": true}
      }
    },
    "agents": {"explore": {"tools": ["mcp:fs"]}}
  })"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.mcp_servers.at("fs").command, "npx");
  EXPECT_EQ(r->config.mcp_servers.at("api").url, "https://example.com/mcp");
  EXPECT_EQ(r->config.mcp_servers.count("off"), 0u) << "disabled: true defines nothing";
  EXPECT_EQ(r->config.mcp_servers.count("servers"), 0u);

  // A server of the older form that is named "servers" stays a server.
  Result<LoadedConfig> named = Load({{"user.jsonc", R"({
    "mcp": {"servers": {"type": "local", "command": ["srv"]}}
  })"}});
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->config.mcp_servers.at("servers").command, "srv");

  Result<LoadedConfig> bad = Load({{"oc.jsonc", R"({
  "mcp": {"servers": {
    "a": {"type": "local", "command": ["x"], "disabled": "yes"}
  }}
})"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("oc.jsonc:3:58: mcp.servers.a.disabled: expected true or false"));
}

TEST(McpServersConfigTest, OpenCodesShapeErrorsNameFileLineAndColumn) {
  Result<LoadedConfig> r = Load({{"oc.jsonc", R"({
  "mcp": {
    "a": {"command": ["x"]},
    "b": {"type": "local", "command": "npx -y server"},
    "c": {"type": "remote"},
    "d": {"type": "stdio", "command": ["x"]},
    "e": {"type": "local", "command": []}
  }
})"}});
  ASSERT_FALSE(r.ok());
  const std::string m = r.status().message();
  EXPECT_THAT(m,
              HasSubstr("oc.jsonc:3:5: mcp.a: an MCP server in OpenCode's shape needs \"type\""));
  EXPECT_THAT(m, HasSubstr("oc.jsonc:4:39: mcp.b.command: expected"));
  EXPECT_THAT(m, HasSubstr("oc.jsonc:5:5: mcp.c: a \"remote\" MCP server needs \"url\""));
  EXPECT_THAT(m, HasSubstr("oc.jsonc:6:19: mcp.d.type: expected \"local\""));
  EXPECT_THAT(m, HasSubstr("oc.jsonc:7:39: mcp.e.command: expected the program and its arguments"));
}

TEST(McpServersConfigTest, SharedIsForStdioServersAndErrorsSayWhere) {
  Result<LoadedConfig> ok = Load({{"user.jsonc", R"({
    "mcp_servers": {"one": {"command": "a", "shared": true}, "each": {"command": "b"}}
  })"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->config.mcp_servers.at("one").shared);
  EXPECT_FALSE(ok->config.mcp_servers.at("each").shared) << "stdio servers are per task by default";

  Result<LoadedConfig> bad = Load({{"s.jsonc", R"({
  "mcp_servers": {
    "a": {"command": "x", "shared": "yes"},
    "b": {"url": "http://127.0.0.1:9/mcp", "shared": false}
  }
})"}});
  ASSERT_FALSE(bad.ok());
  const std::string m = bad.status().message();
  EXPECT_THAT(m,
              HasSubstr("s.jsonc:3:37: mcp_servers.a.shared: expected true or false, got \"yes\""));
  EXPECT_THAT(m, HasSubstr("s.jsonc:4:44: mcp_servers.b.shared: \"shared\" is for stdio servers"));
}

TEST(McpServersConfigTest, ErrorsNameFileLineAndColumn) {
  Result<LoadedConfig> r = Load({{"u.jsonc", R"({
  "mcp_servers": {
    "a": {"args": []},
    "b": {"command": "x", "url": "http://h/"},
    "Bad Name": {"command": "x"},
    "c": {"url": "ftp://h/"},
    "d": {"url": "http://h/", "headers": {"Authorization": "Bearer sk-literal"}}
  },
  "agents": {"explore": {"tools": ["mcp:nosuch/*"]}}
})"}});
  ASSERT_FALSE(r.ok());
  const std::string m = r.status().message();
  EXPECT_THAT(m, HasSubstr("u.jsonc:3:5: mcp_servers.a: an MCP server needs \"command\""));
  EXPECT_THAT(m, HasSubstr("u.jsonc:4:5: mcp_servers.b: an MCP server has \"command\" (stdio) or "
                           "\"url\" (streamable HTTP), not both"));
  EXPECT_THAT(m, HasSubstr("u.jsonc:5:5: mcp_servers.Bad Name: an MCP server name uses"));
  EXPECT_THAT(m, HasSubstr("u.jsonc:6:18: mcp_servers.c.url: expected an http:// or https:// URL"));
  EXPECT_THAT(m, HasSubstr("u.jsonc:7:43: mcp_servers.d.headers.Authorization: credentials must "
                           "not be written"));
  EXPECT_THAT(m, HasSubstr("u.jsonc:9:36: agents.explore.tools[0]: unknown MCP server "
                           "\"nosuch\"; configured: a, b, c, d"));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("sk-literal")));
}

TEST(McpServersConfigTest, AProjectFileCannotStartServersTheUserDidNotAllow) {
  const std::string project = "/w/.troupe/troupe.jsonc";
  Result<LoadedConfig> blocked =
      Load({{"user.jsonc", R"({"mcp_servers": {"mine": {"command": "a"}}})"},
            {project, R"({"mcp_servers": {"evil": {"command": "rm"}, "mine": {"args": ["x"]}}})"}});
  ASSERT_TRUE(blocked.ok()) << blocked.status().ToString();
  EXPECT_THAT(blocked->config.mcp_servers.at("evil").blocked,
              HasSubstr("add \"evil\" to \"mcp_servers_allowed\" in your user config"));
  // Changing a user's server is changing what runs, too.
  EXPECT_THAT(blocked->config.mcp_servers.at("mine").blocked, HasSubstr(project));
  ASSERT_EQ(blocked->warnings.size(), 2u);
  EXPECT_THAT(blocked->warnings[0].ToString(), HasSubstr(project + ":1:18: mcp_servers.evil: "
                                                                   "not started"));

  Result<LoadedConfig> allowed =
      Load({{"user.jsonc", R"({"mcp_servers_allowed": ["evil"]})"},
            {project, R"({"mcp_servers": {"evil": {"command": "rm"}}})"}});
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->config.mcp_servers.at("evil").blocked, "");

  Result<LoadedConfig> self_allowed =
      Load({{project,
             R"({"mcp_servers_allowed": ["evil"], "mcp_servers": {"evil": {"command": "rm"}}})"}});
  ASSERT_FALSE(self_allowed.ok());
  EXPECT_THAT(self_allowed.status().message(),
              HasSubstr("only your own config file (not a project's .troupe/troupe.jsonc) may "
                        "allow MCP servers"));
}

TEST(McpServersConfigTest, WebFetchSection) {
  Result<LoadedConfig> r = Load({{"u", R"({"webfetch": {"allow_hosts": ["*.rs"],
      "deny_hosts": ["evil.rs"], "max_bytes": 2048, "timeout_ms": 10, "max_redirects": 2}})"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.webfetch.allow_hosts, (std::vector<std::string>{"*.rs"}));
  EXPECT_EQ(r->config.webfetch.deny_hosts, (std::vector<std::string>{"evil.rs"}));
  EXPECT_EQ(r->config.webfetch.max_bytes, 2048);
  EXPECT_EQ(r->config.webfetch.max_redirects, 2);
  Result<LoadedConfig> bad = Load({{"u", R"({"webfetch": {"deny_hosts": ["http://x"]}})"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("u:1:30: webfetch.deny_hosts[0]: expected a host"));
}

TEST(McpPatternsTest, GlobsPatternsAndEnvExpansion) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("search*", "search_docs"));
  EXPECT_TRUE(GlobMatch("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(GlobMatch("*.example.com", "example.com"));
  EXPECT_FALSE(GlobMatch("a*b", "acbd"));
  EXPECT_EQ(ParseMcpToolPattern("mcp:docs").server, "docs");
  EXPECT_EQ(ParseMcpToolPattern("mcp:docs").tool_glob, "*");
  EXPECT_EQ(ParseMcpToolPattern("mcp:docs/get_*").tool_glob, "get_*");
  EXPECT_EQ(ParseMcpToolPattern("read").server, "");
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "T") return "tok";
    return std::nullopt;
  };
  EXPECT_EQ(ExpandEnvReferences("Bearer ${T}$$", env).value(), "Bearer tok$");
  EXPECT_EQ(ExpandEnvReferences("${NOPE}", env).status().message(),
            "environment variable NOPE is not set");
  EXPECT_FALSE(ExpandEnvReferences("${T", env).ok());
}

}  // namespace
}  // namespace troupe
