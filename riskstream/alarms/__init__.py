"""Alarm management shared by the correlator and the command center (pure, no I/O): who may
do what (:mod:`.roles`), the order alarms are shown in (:mod:`.priority`) and the alarm
system's health figures (:mod:`.kpi`)."""
