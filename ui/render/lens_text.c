/* placeholder: being written */
typedef int attn_placeholder_;
