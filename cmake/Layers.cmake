# modelmux_layer(NAME [DEPS ...] [PRIVATE_DEPS ...])
#
# Builds src/NAME/ as the static library mm_NAME. The layer's headers are reachable as
# "NAME/foo.hpp" only through a per-layer include root (build/layers/NAME/NAME -> src/NAME), so a
# layer can include exactly the layers it links to. Every *_test.cpp beside the code becomes part of
# the test binary NAME_test (ctest label "unit"); every *_benchmark.cpp part of NAME_benchmark.
function(modelmux_layer name)
  cmake_parse_arguments(L "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  set(dir ${PROJECT_SOURCE_DIR}/src/${name})
  file(GLOB_RECURSE all CONFIGURE_DEPENDS ${dir}/*.cpp)
  set(srcs ${all})
  list(FILTER srcs EXCLUDE REGEX "(_test|_benchmark|_fuzz)\\.cpp$")
  set(tests ${all})
  list(FILTER tests INCLUDE REGEX "_test\\.cpp$")
  set(benches ${all})
  list(FILTER benches INCLUDE REGEX "_benchmark\\.cpp$")

  set(root ${PROJECT_BINARY_DIR}/layers/${name})
  file(MAKE_DIRECTORY ${root})
  if(NOT EXISTS ${root}/${name})
    file(CREATE_LINK ${dir} ${root}/${name} SYMBOLIC)
  endif()

  if(srcs)
    add_library(mm_${name} STATIC ${srcs})
    target_include_directories(mm_${name} PUBLIC $<BUILD_INTERFACE:${root}>)
    target_link_libraries(mm_${name} PUBLIC ${L_DEPS} PRIVATE mm_warnings ${L_PRIVATE_DEPS})
  else()
    add_library(mm_${name} INTERFACE)
    target_include_directories(mm_${name} INTERFACE $<BUILD_INTERFACE:${root}>)
    target_link_libraries(mm_${name} INTERFACE ${L_DEPS})
  endif()

  if(MODELMUX_DEVELOPER_MODE AND tests)
    add_executable(${name}_test ${tests})
    target_link_libraries(${name}_test PRIVATE mm_${name} ${L_PRIVATE_DEPS} mm_warnings GTest::gtest
      GTest::gtest_main GTest::gmock)
    target_compile_definitions(${name}_test PRIVATE
      MODELMUX_TESTDATA_DIR="${dir}" MODELMUX_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    gtest_discover_tests(${name}_test DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit TIMEOUT 120)
  endif()
  if(MODELMUX_DEVELOPER_MODE AND benches)
    add_executable(${name}_benchmark ${benches})
    target_link_libraries(${name}_benchmark PRIVATE mm_${name} ${L_PRIVATE_DEPS} benchmark::benchmark
      benchmark::benchmark_main)
  endif()
endfunction()
