# The Debian package (CPack DEB): `make package` -> build/release/modelmux_<version>_amd64.deb.
#
#   /usr/bin/modelmux                       the executable (component runtime, cmake/Install.cmake)
#   /lib/systemd/system/modelmux.service    hardened unit (packaging/modelmux.service)
#   /etc/modelmux/config.yaml               conffile; serves the built-in simulator until edited
#   /usr/share/doc/modelmux/DEPLOY.md       deployment notes
#   maintainer scripts (packaging/debian/): the `modelmux` system user, /var/lib/modelmux
#
# Only the runtime and service components go into the package (not the SDK). The service files
# use absolute destinations and are EXCLUDE_FROM_ALL, so that a plain `cmake --install --prefix`
# (the SDK staging of `make examples`) never writes to /etc or /lib of the build machine.

install(FILES ${PROJECT_SOURCE_DIR}/packaging/modelmux.service
  DESTINATION /lib/systemd/system PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
  COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/config.yaml
  DESTINATION /etc/modelmux PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
  COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/DEPLOY.md
  DESTINATION /usr/share/doc/modelmux PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
  COMPONENT service EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME modelmux)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "modelmux")
set(CPACK_PACKAGE_CONTACT "modelmux maintainers <modelmux@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
  "modelmux is an OpenAI-compatible gateway for large-model APIs: routing, retries, caching,\
 budgets and virtual keys. This package runs it as a hardened systemd service.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)  # with CPACK_SET_DESTDIR, the prefix used inside the package
set(CPACK_SET_DESTDIR ON)  # absolute destinations (/etc, /lib) land in the package root
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_CMAKE_PROJECTS
  "${PROJECT_BINARY_DIR};modelmux;runtime;/"
  "${PROJECT_BINARY_DIR};modelmux;service;/")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # modelmux_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # Depends: from dpkg-shlibdeps on /usr/bin/modelmux
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")  # postinst creates the system user
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm
  ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)

include(CPack)
