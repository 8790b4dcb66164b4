# The provider wire codecs (openai_codec.h, anthropic_codec.h) and their tests. Included at the
# end of src/llm/CMakeLists.txt, after troupe_llm is defined.
add_library(troupe_llm_codecs STATIC
  anthropic_codec.cc
  json_fields.cc
  openai_codec.cc
  provider_error.cc
)
target_link_libraries(troupe_llm_codecs PUBLIC troupe_llm troupe_core nlohmann_json::nlohmann_json)

troupe_add_test(llm_codec_test
  SOURCES anthropic_codec_test.cc json_fields_test.cc openai_codec_test.cc
  LIBS troupe_llm_codecs)

# libFuzzer target feeding arbitrary bytes through SseParser into both stream decoders (clang):
#   CXX=clang++ cmake -S . -B build/codec-fuzz -G Ninja -DTROUPE_FUZZ=ON \
#     -DTROUPE_SANITIZE=address,undefined -DTROUPE_BUILD_BENCH=OFF
#   cmake --build build/codec-fuzz --target llm_stream_fuzz
#   build/codec-fuzz/src/llm/llm_stream_fuzz src/llm/fuzz_corpus/llm_stream -max_total_time=120
if(TROUPE_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_options(troupe_llm_codecs PRIVATE -fsanitize=fuzzer-no-link)
  add_executable(llm_stream_fuzz llm_stream_fuzz.cc)
  target_link_libraries(llm_stream_fuzz PRIVATE troupe_llm_codecs)
  target_compile_options(llm_stream_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(llm_stream_fuzz PRIVATE -fsanitize=fuzzer)
endif()
