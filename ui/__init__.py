"""The Kivy touchscreen app. Talks only to the till service in firmware, never to a driver."""
