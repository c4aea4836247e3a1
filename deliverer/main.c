/* placeholder until the role lands */
int main(void);
int main(void) { return 0; }
