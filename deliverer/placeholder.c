int deliverer_placeholder(void);
int deliverer_placeholder(void) { return 0; }
