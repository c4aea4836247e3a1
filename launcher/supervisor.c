/* placeholder until the launcher lands */
int launcher_placeholder(void);
int launcher_placeholder(void) { return 0; }
