# Install rules: the modelmux executable, the SDK (libmodelmux + include/modelmux/), a CMake
# package (find_package(modelmux) -> modelmux::modelmux) and a pkg-config file (modelmux.pc).
#
#   cmake --install build/release --prefix /usr/local
#   find_package(modelmux 0.1 REQUIRED)                  # CMAKE_PREFIX_PATH=<prefix> if not standard
#   target_link_libraries(app PRIVATE modelmux::modelmux)
#   find_package(modelmux REQUIRED COMPONENTS asio)      # also modelmux::asio (+ Boost headers)

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MODELMUX_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/modelmux CACHE STRING
  "Where the CMake package files of modelmux are installed (relative to the prefix)")

if(TARGET modelmux)
  install(TARGETS modelmux RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()

if(TARGET modelmux_sdk)
  install(TARGETS modelmux_sdk EXPORT modelmux-targets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk NAMELINK_COMPONENT sdk
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sdk
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/modelmux
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT sdk FILES_MATCHING PATTERN "*.hpp")

  install(EXPORT modelmux-targets NAMESPACE modelmux:: FILE modelmux-targets.cmake
    DESTINATION ${MODELMUX_INSTALL_CMAKEDIR} COMPONENT sdk)
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/modelmux-config.cmake.in
    ${PROJECT_BINARY_DIR}/modelmux-config.cmake
    INSTALL_DESTINATION ${MODELMUX_INSTALL_CMAKEDIR})
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/modelmux-config-version.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/modelmux-config.cmake
    ${PROJECT_BINARY_DIR}/modelmux-config-version.cmake
    DESTINATION ${MODELMUX_INSTALL_CMAKEDIR} COMPONENT sdk)

  # pkg-config: paths relative to ${prefix} when the install dirs are relative.
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(MODELMUX_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
  else()
    set(MODELMUX_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(MODELMUX_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
  else()
    set(MODELMUX_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  # The prefix is substituted at install time, so that `cmake --install --prefix DIR` is honoured.
  set(MODELMUX_PC_PREFIX "@MODELMUX_PC_PREFIX@")  # kept for the install-time pass
  configure_file(${PROJECT_SOURCE_DIR}/cmake/modelmux.pc.in ${PROJECT_BINARY_DIR}/modelmux.pc.in
    @ONLY)
  install(CODE "
    set(MODELMUX_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${PROJECT_BINARY_DIR}/modelmux.pc.in\" \"${PROJECT_BINARY_DIR}/modelmux.pc\" @ONLY)
  " COMPONENT sdk)
  install(FILES ${PROJECT_BINARY_DIR}/modelmux.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT sdk)
endif()
