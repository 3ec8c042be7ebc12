"""The embedded lab: a simulated machine room on 127.0.0.1 (README.md, "The lab").

``respond lab up`` starts :mod:`respond.lab.daemon` detached. It runs:

* SSH hosts (:mod:`.sshhost`, paramiko): core ``oa1 sms1 db1 file1``, non-critical ``app1 app2
  test1`` (more with ``--hosts N``) and the UPS monitor ``ups1``. Key auth only, one ed25519 host
  key per host. A host is a sandbox (docs/lab-sandbox.md): commands run in restricted bash
  (:mod:`.shell`) whose PATH holds only the simulated tools (:mod:`.tools`: ``upsc``,
  ``ipmitool``, ``systemctl``, ``df``, ``journalctl``, ``uptime``, ``ping``,
  ``shutdown``/``poweroff``/``reboot``, ``wakeonlan``, ``hostname``) and checked harmless
  commands confined to the host's tree (:mod:`.safecmd`: ``cat``, ``grep``, ``awk``, ``tar``,
  ``sudo``, …), and, with Landlock, the whole process tree is confined too (:mod:`.landlock`).
* Switches of three vendors (:mod:`.netdev`: paramiko servers, one CLI dialect each): the Huawei
  VRP core ``core-sw1``, the H3C Comware ``acc-sw1`` and the Cisco IOS ``acc-sw2`` (more access
  switches with ``--switches N``), password login, one RSA host key per switch.
* The OA, SMS and notification-sink web services (:mod:`.web`).

All of them read one state document (:mod:`.state`) through the derived views of
:mod:`.model`; faults and timed behaviour are timestamps there, computed lazily. The topology
is static data in :mod:`.topology`; :mod:`.control` is what the CLI (and drills) call.

Files: ``<home>/lab/`` holds ``state.json``, ``lab.json`` (ports, URLs, pid), ``lab.pid``,
``lab.log``, ``ports.json``, ``keys/``, ``id_ed25519`` (client key), ``known_hosts``, ``bin/``
(the hosts' whole PATH), ``shellrc`` (interactive shells' prelude), ``hosts/<name>/`` (each
host's home, working directory and only writable place), ``secrets.json``
(the switch password), ``commands.log`` (:mod:`.commandlog`: every command the hosts executed
and every line the switches processed); the Ansible inventory goes to
``<project>/inventory/lab.yaml`` (marked, and removed by ``lab down``: :mod:`.inventoryfile`).

Nothing is imported here, so the tools stay fast and ``respond --help`` stays light.
"""
