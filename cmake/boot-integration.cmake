# Boot integration: the systemd unit, the udev rules and both initramfs
# generators' hooks. Included (OPTIONAL) by the top CMakeLists.txt, which defines the
# directories: XA_SYSTEMD_UNITDIR, XA_UDEVDIR, XA_DRACUTDIR, XA_INITRAMFS_TOOLSDIR.
set(_xa_boot ${PROJECT_SOURCE_DIR})

install(FILES ${_xa_boot}/systemd/xen-autoload.service DESTINATION ${XA_SYSTEMD_UNITDIR})
install(FILES ${_xa_boot}/udev-rules/70-xen-autoload.rules DESTINATION ${XA_UDEVDIR}/rules.d)

# initramfs-tools: a hook (build time) and an init-top script (boot time). The script's
# "00-" name makes it run before init-top/udev (see the script).
install(PROGRAMS ${_xa_boot}/initramfs-hooks/initramfs-tools/hooks/xen-autoload
        DESTINATION ${XA_INITRAMFS_TOOLSDIR}/hooks)
install(PROGRAMS ${_xa_boot}/initramfs-hooks/initramfs-tools/scripts/init-top/00-xen-autoload
        DESTINATION ${XA_INITRAMFS_TOOLSDIR}/scripts/init-top)

# dracut: module-setup.sh and the pre-udev hook it installs.
install(PROGRAMS ${_xa_boot}/initramfs-hooks/dracut/90xen-autoload/module-setup.sh
                 ${_xa_boot}/initramfs-hooks/dracut/90xen-autoload/xen-autoload-early.sh
        DESTINATION ${XA_DRACUTDIR}/90xen-autoload)
